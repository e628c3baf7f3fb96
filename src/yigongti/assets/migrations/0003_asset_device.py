import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0002_stocktake"),
        ("telemedicine", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="asset",
            name="device",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                       related_name="asset", to="telemedicine.device", verbose_name="诊断设备登记"),
        ),
    ]
