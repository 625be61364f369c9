//! TODO(skeleton): sosl — filled by the emulator developers.
