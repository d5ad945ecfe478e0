"""The application's sections, one module each: home, open data (/dati), schools (/scuole), city (/citta)."""
