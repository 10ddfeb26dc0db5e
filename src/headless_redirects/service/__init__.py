"""Use cases. They reach storage through ``storage.repository.Store`` and raise domain errors."""
