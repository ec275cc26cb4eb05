"""The paper: our runs beside its published numbers (``paper-table``) and its training
procedure ported to torch (``reference``)."""
