//! Authorization: the role ladder, `resource:action` permissions and tenant isolation.
