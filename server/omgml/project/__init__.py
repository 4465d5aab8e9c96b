"""Project capabilities: scaffold a project (``init_project``) and report where it stands (``project_status``)."""
