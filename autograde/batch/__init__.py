"""Many uploads: collecting them (uploads), the journal that makes a batch resumable, the
batch run with its workers, and the results folder that alone reads and writes a batch's files."""
