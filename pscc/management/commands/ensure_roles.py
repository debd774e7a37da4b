from django.core.management.base import BaseCommand

from pscc.services import roles_ensure


class Command(BaseCommand):
    help = "Create or refresh the role groups and their permissions."

    def handle(self, *args, **options):
        roles_ensure()
        self.stdout.write(self.style.SUCCESS("Roles are up to date."))
