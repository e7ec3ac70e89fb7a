"""Stages: what sees every stream between the provider and the consumer.

:class:`~.base.Stage` is the base class (``on_start``, ``on_chunk``, ``on_end``,
``on_error``, ``on_event``); :mod:`.pipeline` orders a call's stages; the dispatcher's own
are :mod:`.usage` (the ledger), :mod:`.log` (the stream's log events), :mod:`.progress` and
:mod:`.callbacks`; :mod:`.transformers` and :mod:`.json_check` are stages callers add.
"""
