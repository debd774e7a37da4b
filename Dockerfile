FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN PSCC_ENV=development DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost python manage.py collectstatic --noinput
RUN useradd --create-home pscc
USER pscc
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "pscc.asgi:application"]
