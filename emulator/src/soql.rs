//! TODO(skeleton): soql — filled by the emulator developers.
