from django import forms
from django.utils.translation import gettext_lazy as _

from .models import KeyPopulation, Sex


class ResidentForm(forms.Form):
    """Parses the page's input; the rules live in services._clean_fields."""

    name = forms.CharField(label=_("姓名"), max_length=40)
    id_number = forms.CharField(label=_("身份证号"), max_length=30, required=False)  # room for spaces and hyphens
    sex = forms.ChoiceField(label=_("性别"), choices=[("", "—"), *Sex.choices[:2]], required=False)
    birth_date = forms.CharField(label=_("出生日期"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    village = forms.ChoiceField(label=_("居住村"))
    tags = forms.MultipleChoiceField(label=_("重点人群"), choices=KeyPopulation.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = list(villages)
