// PressroomImaging
