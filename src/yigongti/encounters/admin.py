# Encounters and settlements are person-level data: they are read through the scoped, audited pages
# and API, not the admin. Population is aggregate reference data and may be maintained here.
from django.contrib import admin

from .models import PopulationByAge


@admin.register(PopulationByAge)
class PopulationAdmin(admin.ModelAdmin):
    list_display = ("area_code", "year", "sex", "age_from", "population")
    list_filter = ("year", "sex")
    search_fields = ("area_code",)
