//! RFC 6455, sans-IO (being written).
