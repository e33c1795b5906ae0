//! Flow table (in progress).
