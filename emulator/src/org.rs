//! TODO(skeleton): org — filled by the emulator developers.
