// PressroomDaemon
