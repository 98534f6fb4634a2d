// PressroomAdmin
