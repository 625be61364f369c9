//! TODO(skeleton): counters — filled by the emulator developers.
