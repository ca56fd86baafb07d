//! `roster serve`: a read-only web dashboard and JSON API over the state database.
