"""Classes without accounts: a teacher creates a class and gets a code and a secret token,
students join with the code and get a student token, their runs are limited per student and per
class (not per address), and a board shows the class's runs live. Class state lives where runs
live: SQLite beside the embedded engine, Redis beside the scale-out backend."""
