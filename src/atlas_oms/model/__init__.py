"""Values and messages shared by every layer. Imports nothing else of the project."""
