from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("residents", "0002_empi"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="failure",
            field=models.CharField(blank=True, max_length=300, verbose_name="失败原因"),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="status",
            field=models.CharField(choices=[("previewed", "待确认"), ("committed", "已入库"), ("discarded", "已放弃"),
                                            ("failed", "导入失败")],
                                   default="previewed", max_length=10, verbose_name="状态"),
        ),
    ]
