//! AMF3 (in progress)
