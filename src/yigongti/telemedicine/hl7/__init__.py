"""HL7 v2 from analysers and the county LIS: ORU^R01 results over MLLP, answered with ACKs.

``parse`` reads a message into plain typed data (no database), ``ack`` writes the acknowledgement, ``mllp``
frames bytes on a socket, ``ingest`` applies a message to the orders in one transaction (or keeps it in the
error queue with its reason), ``commands`` is ``yigongti hl7 listen|send``."""
