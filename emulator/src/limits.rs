//! TODO(skeleton): limits — filled by the emulator developers.
