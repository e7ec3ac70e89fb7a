"""The callback styles a call can be given, and what they are told.

- :mod:`.styles`: :class:`StreamingCallbacks` (metadata dicts) and :class:`EventCallbacks`
  (typed events);
- :mod:`.langchain`: :class:`StreamHandler` and any LangChain-style handler;
- :mod:`.events`: the typed events and :class:`StreamSummary`;
- :mod:`.listener`: :class:`Listener`, the one shape every style is adapted to, and the
  per-stream counting of callbacks that fail.

The callback stage (:mod:`llm_dispatch.stages.callbacks`) drives them.
"""
