//! TODO(skeleton): error — filled by the emulator developers.
