//! TODO(skeleton): broker — filled by its developers.
