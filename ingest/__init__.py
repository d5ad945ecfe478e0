"""Collectors: each subpackage turns one kind of field traffic into `Reading`s."""
