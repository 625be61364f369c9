//! TODO(skeleton): classify — filled by its developers.
