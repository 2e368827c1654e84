# An invitation's user type is spelled as User.user_type ("guest", "member"); Graph's
# "Guest" and "Member" are only the invitations API's.

from django.db import migrations, models

SPELLINGS = {"Guest": "guest", "Member": "member"}


def lowercase(apps, schema_editor):
    Invitation = apps.get_model("guests", "Invitation")
    for old, new in SPELLINGS.items():
        Invitation.objects.filter(user_type=old).update(user_type=new)


def capitalise(apps, schema_editor):
    Invitation = apps.get_model("guests", "Invitation")
    for old, new in SPELLINGS.items():
        Invitation.objects.filter(user_type=new).update(user_type=old)


class Migration(migrations.Migration):
    dependencies = [
        ("guests", "0004_outboxemail_moved_to_emails"),
    ]

    operations = [
        migrations.AlterField(
            model_name="invitation",
            name="user_type",
            field=models.CharField(
                choices=[("member", "Member"), ("guest", "Guest")], default="guest", max_length=8
            ),
        ),
        migrations.RunPython(lowercase, capitalise),
    ]
