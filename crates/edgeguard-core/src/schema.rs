//! Body validation against the schemas a policy declares.
