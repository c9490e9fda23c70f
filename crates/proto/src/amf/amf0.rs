//! AMF0 (in progress)
