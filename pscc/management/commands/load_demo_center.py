from django.core.management.base import BaseCommand

from pscc.demo import load_demo_center


class Command(BaseCommand):
    help = "Load (or refresh) the demo center: agencies, units, geography, lines, staff. Idempotent."

    def handle(self, *args, **options):
        for line in load_demo_center():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Demo center loaded."))
