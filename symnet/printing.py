"""Printing graphs: debugprint (a tree), pp (an infix formula)."""
