import signal

from django.core.management.base import BaseCommand

from pscc.relay import run_relay


class Command(BaseCommand):
    help = "Run the journal relay (numbers committed events and publishes them). One runs at a time."

    def handle(self, *args, **options):
        stopping = {"flag": False}

        def stop(*_):
            stopping["flag"] = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write("relay: starting")
        run_relay(stop=lambda: stopping["flag"])
        self.stdout.write("relay: stopped")
