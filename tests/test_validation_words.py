"""One wording for validation errors (backcare.errors): the field is named once, pydantic's prefix is gone."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from backcare.errors import InvalidInput, describe_validation_error, invalid_input


class _Form(BaseModel):
    pain: int = Field(ge=0, le=10)
    minutes: int | None = None

    @model_validator(mode="after")
    def _minutes_need_pain(self):
        if self.minutes == 0 and self.pain > 5:
            raise ValueError("minutes: a session of 0 minutes cannot hurt this much")
        return self


def _error(**values) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Form(**values)
    return caught.value


def test_the_first_problem_names_its_field_and_keeps_only_the_reason():
    error = invalid_input(_error(pain=11), "form")
    assert isinstance(error, InvalidInput)
    assert (error.field, error.reason) == ("pain", "Input should be less than or equal to 10")
    assert str(error) == "pain: Input should be less than or equal to 10"


def test_a_cross_field_check_is_named_by_the_field_it_names():
    error = invalid_input(_error(pain=8, minutes=0), "form")
    assert (error.field, error.reason) == ("minutes", "a session of 0 minutes cannot hurt this much")


def test_a_form_words_its_fields_through_labels():
    error = invalid_input(_error(pain=-1), "form", {"pain": "Pain score"})
    assert (error.field, error.reason) == ("Pain score", "input should be greater than or equal to 0")


def test_every_problem_on_one_line_for_files():
    assert describe_validation_error(_error(pain="x", minutes="y")) == (
        "pain: Input should be a valid integer, unable to parse string as an integer; "
        "minutes: Input should be a valid integer, unable to parse string as an integer"
    )
