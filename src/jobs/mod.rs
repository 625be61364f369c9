//! TODO(skeleton): jobs — filled by its developers.
