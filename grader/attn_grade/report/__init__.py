"""Views of a LabResult: terminal, JSON and PNG. A renderer never grades."""
