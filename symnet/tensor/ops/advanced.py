"""Advanced indexing (integer arrays, boolean masks), take, sort, cumsum."""
