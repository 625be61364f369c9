//! TODO(skeleton): ops — filled by its developers.
