"""A version stands in for another only if it reads the same columns with the same types."""

from {{ cookiecutter.package_name }}.core.input_signature import signature_difference

CURRENT = {"age": "double", "city": "string"}


def test_the_same_columns_in_any_order_match() -> None:
    assert signature_difference(CURRENT, {"city": "string", "age": "double"}) is None


def test_a_missing_an_extra_and_a_retyped_column_are_each_named() -> None:
    difference = signature_difference(CURRENT, {"age": "long", "zip": "string"})
    assert difference == "it lacks 'city'; it also needs 'zip'; 'age' is long not double"
