//! TODO(skeleton): oauth — filled by the emulator developers.
