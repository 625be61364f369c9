//! TODO(skeleton): admin — filled by the emulator developers.
