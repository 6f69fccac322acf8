"""The tables, one module per area of the record; ``revteam.store.models`` imports them all."""
