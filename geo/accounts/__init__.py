"""accounts: see DESIGN.md section 2."""
