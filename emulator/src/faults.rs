//! TODO(skeleton): faults — filled by the emulator developers.
