"""How far a stream is.

- :mod:`.gauge`: :class:`StreamProgress`, the progress of one stream (expected length, the
  0-100 curve, rate, time to first token, ETA), with :class:`ProgressSnapshot` and
  :class:`ProgressStatus`;
- :mod:`.lengths`: :class:`CompletionLengths`, the completion lengths learned so far;
- :mod:`.tracker`: :class:`ProgressTracker`, what an application attaches to a call and reads;
- :mod:`.by_task`: the stream each asyncio task started last, which a tracker given to no
  call follows;
- :mod:`.bar`: :class:`ProgressBar`, a rich progress bar polling a tracker (it imports rich,
  so nothing else imports it).

The progress stage (:mod:`llm_dispatch.stages.progress`) puts them to work on every call.
"""
