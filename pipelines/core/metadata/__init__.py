"""What every column, sheet, table and rule is, declared once; the Pandera and Arrow
schemas, the template Guide and the data dictionary are generated from it."""
