//! TODO(skeleton): dsr — filled by its developers.
