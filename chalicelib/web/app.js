// the desk's web UI
