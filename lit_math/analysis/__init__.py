"""Pure functions over predictions: the GCD rules, tables, histories."""

from lit_math.analysis.gcd_rules import LEARNED_THRESHOLD, ClassTable, Rules, check_rules, is_base_product

__all__ = ["LEARNED_THRESHOLD", "ClassTable", "Rules", "check_rules", "is_base_product"]
