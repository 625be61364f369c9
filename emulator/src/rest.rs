//! TODO(skeleton): rest — filled by the emulator developers.
