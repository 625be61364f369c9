//! TODO(skeleton): bulk — filled by the emulator developers.
